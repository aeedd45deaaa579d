import { createElement } from 'lwc';
import DraftReply from 'c/draftReply';
import generate from '@salesforce/apex/DraftReplyController.generate';
import submitFeedback from '@salesforce/apex/RateAnswerController.submit';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/DraftReplyController.generate', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex/RateAnswerController.submit', () => ({ default: jest.fn() }), { virtual: true });

// The Flow screen event, with the attribute name and value the real one carries.
jest.mock(
    'lightning/flowSupport',
    () => ({
        FlowAttributeChangeEvent: class extends CustomEvent {
            constructor(attributeName, attributeValue) {
                super('lightning__flowattributechange', { bubbles: true, composed: true });
                this.attributeName = attributeName;
                this.attributeValue = attributeValue;
            }
        }
    }),
    { virtual: true }
);

const ANSWER = {
    text: 'Sample answer',
    generationId: 'generation-1',
    toxicityDetected: false,
    toxicityScore: 0,
    toxicityScores: {},
    outputs: {  }
};

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    customerName: 'Sample Customer Name',
    orderNumber: 42,
    dueDate: '2024-01-31'
};

function render(properties = {}) {
    const element = createElement('c-draft-reply', { is: DraftReply });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

function fillInputs(element) {
    enter(element, 'customerName', 'value', 'Sample Customer Name');
    enter(element, 'orderNumber', 'value', '42');
    enter(element, 'dueDate', 'value', '2024-01-31');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Generate').click();
    await flushPromises();
}

describe('c-draft-reply', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Draft Reply');
        expect(control(element, 'customerName').label).toBe('Customer Name');
        expect(control(element, 'customerName').required).toBe(true);
        expect(control(element, 'orderNumber').label).toBe('Order Number');
        expect(control(element, 'dueDate').label).toBe('Due Date');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Generate').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Generate').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        generate.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(ANSWER);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends the inputs and shows the answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        expect(generate).toHaveBeenCalledWith(EXPECTED_INPUTS);
        expect(shown(element, '.answer').value).toBe('Sample answer');
        expect(shown(element, '.toxicity')).toBeNull();
        expect(shown(element, '.error')).toBeNull();
    });

    it('flags an answer the Trust Layer found toxic', async () => {
        generate.mockResolvedValue({ ...ANSWER, toxicityDetected: true, toxicityScore: 0.91 });
        const element = render();

        await send(element);

        expect(shown(element, '.toxicity')).not.toBeNull();
    });

    it('tells a Flow screen about the answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT', 'BACK'] });
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push([event.attributeName, event.attributeValue]));

        await send(element);

        expect(changes).toEqual([
            ['answerText', 'Sample answer']
        ]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('fires no Flow event outside a Flow screen', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render();
        const changes = [];
        element.addEventListener('lightning__flowattributechange', (event) => changes.push(event.attributeName));

        await send(element);

        expect(changes).toEqual([]);
        expect(element.answerText).toBe('Sample answer');
    });

    it('keeps a Flow screen from going on until there is an answer', async () => {
        generate.mockResolvedValue(ANSWER);
        const element = render({ availableActions: ['NEXT'] });

        expect(element.validate()).toEqual({ isValid: false, errorMessage: 'Get an answer with Generate before you go on.' });
        await send(element);
        expect(element.validate()).toEqual({ isValid: true });
    });

    it('shows the message of a failed call', async () => {
        generate.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses Customer Name over 4000 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'customerName', 'value', 'x'.repeat(4001));
        await flushPromises();

        button(element, 'Generate').click();
        await flushPromises();

        expect(generate).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('Customer Name is too long: at most 4000 characters');
        expect(control(element, 'customerName').maxLength).toBe('4000');
    });

    it('takes its inputs from a Flow screen or a parent component', () => {
        const element = render({ customerName: 'Sample Customer Name' });

        expect(control(element, 'customerName').value).toBe('Sample Customer Name');
    });

    it('sends feedback about the answer with its generation id', async () => {
        generate.mockResolvedValue(ANSWER);
        submitFeedback.mockResolvedValue('Feedback received');
        const element = render();

        await send(element);
        expect(button(element, 'Send Feedback').disabled).toBe(true);
        const thumbs = [...element.shadowRoot.querySelectorAll('lightning-button-icon-stateful')];
        thumbs.find((thumb) => thumb.alternativeText === 'Good answer').click();
        enter(element, 'feedback-comment', 'value', 'Clear and short');
        await flushPromises();
        button(element, 'Send Feedback').click();
        await flushPromises();

        expect(submitFeedback).toHaveBeenCalledWith({
            generationId: 'generation-1',
            rating: 'GOOD',
            comment: 'Clear and short'
        });
        expect(shown(element, '.feedback-confirmation').textContent).toBe('Feedback received');
    });
});
